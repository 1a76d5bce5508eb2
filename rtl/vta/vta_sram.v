// vta_sram: one SRAM buffer of DEPTH entries of WIDTH bits, one write port and one read port.
// Computes: mem[waddr] <= wdata when we; rdata <= mem[raddr] (read-before-write on a collision).
// Latency: a write is visible from the edge it is taken at; read data appear one cycle after the address.
// The storage is public so the harness can read architectural state by name (rtl/README.md).
module vta_sram #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 64
) (
    input  wire                     clk,
    input  wire                     we,
    input  wire [$clog2(DEPTH)-1:0] waddr,
    input  wire [WIDTH-1:0]         wdata,
    input  wire [$clog2(DEPTH)-1:0] raddr,
    output reg  [WIDTH-1:0]         rdata
);
    reg [WIDTH-1:0] mem [0:DEPTH-1] /*verilator public_flat_rd*/;

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule
