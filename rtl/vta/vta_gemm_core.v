// vta_gemm_core: one GEMM micro-op iteration, a BLOCK_OUT x BLOCK_IN block of int8
// multiply-accumulates: acc_out[j] = acc_in[j] + sum_k inp[k] * wgt[j*BLOCK_IN + k] in wrapping
// int32, or 0 when reset. Lanes are packed little endian (lane k is bits [8k+7:8k] / [32j+31:32j]).
// Latency: combinational (the compute unit registers around it).
module vta_gemm_core #(
    parameter int BLOCK_IN = 16,
    parameter int BLOCK_OUT = 16
) (
    input  wire                            reset,
    input  wire [BLOCK_IN*8-1:0]           inp,
    input  wire [BLOCK_OUT*BLOCK_IN*8-1:0] wgt,
    input  wire [BLOCK_OUT*32-1:0]         acc_in,
    output wire [BLOCK_OUT*32-1:0]         acc_out
);
    genvar j, k;
    generate
        for (j = 0; j < BLOCK_OUT; j = j + 1) begin : g_out
            wire [31:0] chain [0:BLOCK_IN];
            assign chain[0] = acc_in[32*j +: 32];
            for (k = 0; k < BLOCK_IN; k = k + 1) begin : g_in
                wire signed [15:0] product = $signed(inp[8*k +: 8]) * $signed(wgt[8*(j*BLOCK_IN + k) +: 8]);
                assign chain[k+1] = chain[k] + {{16{product[15]}}, product};
            end
            assign acc_out[32*j +: 32] = reset ? 32'd0 : chain[BLOCK_IN];
        end
    endgenerate
endmodule
