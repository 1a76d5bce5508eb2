// hlscnn_spad: one HLSCNN scratchpad, DEPTH entries of 128 bits (one AXI beat each), one write
// port and one read port. Computes: mem[waddr] <= wdata when we; rdata <= mem[raddr].
// Latency: a write is visible from the edge it is taken at; read data appear one cycle after the
// address (read-before-write on a collision). The storage is architectural state, public so the
// harness reads it by name (rtl/hlscnn/refinement.json).
module hlscnn_spad #(
    parameter int DEPTH = 8192
) (
    input  wire                     clk,
    input  wire                     we,
    input  wire [$clog2(DEPTH)-1:0] waddr,
    input  wire [127:0]             wdata,
    input  wire [$clog2(DEPTH)-1:0] raddr,
    output reg  [127:0]             rdata
);
    reg [127:0] mem [0:DEPTH-1] /*verilator public_flat_rd*/;

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule
