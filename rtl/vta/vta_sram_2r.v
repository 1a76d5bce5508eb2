// vta_sram_2r: an SRAM buffer with one write port and two read ports (the accumulator buffer:
// the ALU reads its destination and its source row in the same cycle).
// Computes: mem[waddr] <= wdata when we; rdata0 <= mem[raddr0]; rdata1 <= mem[raddr1]
// (read-before-write on a collision). Latency: read data one cycle after the address.
module vta_sram_2r #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 64
) (
    input  wire                     clk,
    input  wire                     we,
    input  wire [$clog2(DEPTH)-1:0] waddr,
    input  wire [WIDTH-1:0]         wdata,
    input  wire [$clog2(DEPTH)-1:0] raddr0,
    output reg  [WIDTH-1:0]         rdata0,
    input  wire [$clog2(DEPTH)-1:0] raddr1,
    output reg  [WIDTH-1:0]         rdata1
);
    reg [WIDTH-1:0] mem [0:DEPTH-1] /*verilator public_flat_rd*/;

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        rdata0 <= mem[raddr0];
        rdata1 <= mem[raddr1];
    end
endmodule
