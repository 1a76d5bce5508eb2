// hlscnn_epilogue: one output lane from a partial sum (docs/hlscnn.md, Numerics).
// Computes, in 32-bit two's complement with wrap-around:
//   p = psum (+ old << 9 when accum) (+ bias << 9 when bias_en);
//   act 1 (ReLU): p = max(p, 0); act 2 (ReLU with threshold): p = min(max(p, 0), threshold << 9);
//   out = saturate_16((p + 2**8) >>> 9)   -- 16 -> 7 fractional bits, round half up, saturate.
// Latency: combinational.
module hlscnn_epilogue (
    input  wire signed [31:0] psum,
    input  wire signed [15:0] old,
    input  wire               accum,
    input  wire signed [15:0] bias,
    input  wire               bias_en,
    input  wire [1:0]         act,
    input  wire [21:0]        threshold,
    output reg  signed [15:0] out
);
    wire signed [31:0] old_p  = {{7{old[15]}}, old, 9'd0};
    wire signed [31:0] bias_p = {{7{bias[15]}}, bias, 9'd0};
    wire signed [31:0] thr_p  = {1'b0, threshold, 9'd0};
    wire signed [31:0] p1 = accum ? psum + old_p : psum;
    wire signed [31:0] p2 = bias_en ? p1 + bias_p : p1;
    wire signed [31:0] p3 = (act != 2'd0 && p2 < 0) ? 32'sd0 : p2;
    wire signed [31:0] p4 = (act == 2'd2 && p3 > thr_p) ? thr_p : p3;
    wire signed [32:0] rounded = ($signed({p4[31], p4}) + 33'sd256) >>> 9;

    always @(*) begin
        if (rounded > 33'sd32767) out = 16'sh7fff;
        else if (rounded < -33'sd32768) out = -16'sh8000;
        else out = rounded[15:0];
    end
endmodule
