// flexasr_timestep_row: the large-buffer row of vector v of stored timestep ts of a block with base
// `base` and nv vectors per timestep (flexnlp-ila's grouping by 16, docs/flexasr.md):
//   base + (ts // 16) * 16 nv + (ts % 16) + 16 v   (modulo 2^16: the ILA rejects rows past the end).
// Combinational (latency 0).
module flexasr_timestep_row (
    input  wire [15:0] base,
    input  wire [7:0]  nv,
    input  wire [16:0] ts,
    input  wire [7:0]  v,
    output wire [15:0] row
);
    wire [31:0] group = {19'd0, ts[16:4]} * {24'd0, nv};
    wire [31:0] full  = {16'd0, base} + (group << 4) + {28'd0, ts[3:0]} + ({24'd0, v} << 4);
    assign row = full[15:0];

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^full[31:16];
    // verilator lint_on UNUSEDSIGNAL
endmodule
