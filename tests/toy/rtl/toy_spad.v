// toy_spad: the toy's scratchpad, 16 rows of 128 bits (8 lanes of 16 bits, lane k in bits
// [16k+15:16k]), one write port and three read ports.
// Computes: mem[waddr] <= wdata when we; rdata_a/b/c = mem[raddr_a/b/c].
// Latency: reads are combinational; a write is visible from the edge it is taken at. The storage
// is architectural state, public so the harness reads it by name (refinement.json).
module toy_spad (
    input  wire         clk,
    input  wire         we,
    input  wire [3:0]   waddr,
    input  wire [127:0] wdata,
    input  wire [3:0]   raddr_a,
    input  wire [3:0]   raddr_b,
    input  wire [3:0]   raddr_c,
    output wire [127:0] rdata_a,
    output wire [127:0] rdata_b,
    output wire [127:0] rdata_c
);
    reg [127:0] mem [0:15] /*verilator public_flat_rd*/;

    assign rdata_a = mem[raddr_a];
    assign rdata_b = mem[raddr_b];
    assign rdata_c = mem[raddr_c];

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
    end
endmodule
