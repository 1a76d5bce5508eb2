// flexasr_sram: a DEPTH x 128-bit buffer of architectural state (GB large/small, PE weight/input/act).
// Entry r is row r of the ILA state; byte k of a row is bits [8k+7:8k]. One write port, one read
// port; the read data is registered (latency 1 cycle: the row at raddr is on rdata the cycle after).
// A read of the row being written returns the old contents.
module flexasr_sram #(
    parameter int DEPTH = 1024,
    parameter int AW = $clog2(DEPTH)
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [127:0]  wdata,
    input  wire [AW-1:0] raddr,
    output reg  [127:0]  rdata
);
    reg [127:0] mem [0:DEPTH-1] /*verilator public_flat_rd*/;

    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule
