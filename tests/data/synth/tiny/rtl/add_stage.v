// One registered adder: s = a + b, W-bit unsigned inputs, W+1-bit result.
module add_stage #(parameter W = 16) (
    input  wire         clk,
    input  wire [W-1:0] a,
    input  wire [W-1:0] b,
    output reg  [W:0]   s
);
    always @(posedge clk) s <= a + b;
endmodule
