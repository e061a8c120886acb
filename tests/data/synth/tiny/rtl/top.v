// A tiny pipelined datapath for the Yosys flow test: two registered adders, a subtraction,
// a constant multiplication with an accumulate, and a registered compare.
module tiny_top (
    input  wire        ap_clk,
    input  wire        ap_rst,
    input  wire [15:0] x0,
    input  wire [15:0] x1,
    input  wire [15:0] x2,
    input  wire [15:0] x3,
    output reg  [31:0] y,
    output reg         big
);
    wire [16:0] s0, s1;
    add_stage #(.W(16)) u0 (.clk(ap_clk), .a(x0), .b(x1), .s(s0));
    add_stage #(.W(16)) u1 (.clk(ap_clk), .a(x2), .b(x3), .s(s1));
    reg signed [17:0] t;
    always @(posedge ap_clk) begin
        if (ap_rst) begin
            t <= 0;
            y <= 0;
            big <= 0;
        end else begin
            t <= $signed({1'b0, s0}) - $signed({1'b0, s1});
            y <= t * $signed(18'sd1234) + {{14{t[17]}}, t};
            big <= t > 18'sd1000;
        end
    end
endmodule
