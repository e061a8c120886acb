// Source of yosys_0.23_xc7_stat.json: a design that exercises every counted primitive kind on
// 7 series: a 512 x 18 RAM (block RAM), a 16-deep shift register (SRL), a multiply (DSP),
// adders (carry chains), registers and LUT logic.
module mix (
    input  wire               clk,
    input  wire               we,
    input  wire [8:0]         addr,
    input  wire [17:0]        din,
    input  wire signed [15:0] a,
    input  wire signed [15:0] b,
    output reg  [17:0]        dout,
    output wire               tap,
    output reg  signed [31:0] acc
);
    reg [17:0] mem [0:511];
    always @(posedge clk) begin
        if (we) mem[addr] <= din;
        dout <= mem[addr];
    end
    reg [15:0] sr;
    always @(posedge clk) sr <= {sr[14:0], din[0]};
    assign tap = sr[15];
    always @(posedge clk) acc <= acc + a * b + (a ^ b);
endmodule
