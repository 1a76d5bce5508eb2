// hlscnn_mac8: the 8-lane dot product of the conv datapath (docs/hlscnn.md, Numerics).
// Computes: term = floor(sum_{l : lane_mask[l]} act[l] * wgt[l] / 2**5), where act[l] is the
// 16-bit activation (7 fractional bits) in bits [16l+15:16l] of act_beat and wgt[l] the 16-bit
// weight (14 fractional bits): bits [16l+15:16l] of wgt_entry, or, with 8-bit weights, byte
// 8*half+l of the entry shifted left by 8. The sum is exact (35 bits); the shift takes it from
// 21 to 16 fractional bits (the psum format) and fits 32 bits.
// Latency: combinational.
module hlscnn_mac8 #(
    parameter int WEIGHT_BITS = 16
) (
    input  wire [127:0]       act_beat,
    input  wire [127:0]       wgt_entry,
    input  wire               half,
    input  wire [7:0]         lane_mask,
    output wire signed [31:0] term
);
    reg signed [34:0] sum;
    reg signed [15:0] a, w;
    integer l;

    always @(*) begin
        sum = 35'sd0;
        for (l = 0; l < 8; l = l + 1) begin
            a = act_beat[16*l +: 16];
            if (WEIGHT_BITS == 16) w = wgt_entry[16*l +: 16];
            else w = {wgt_entry[64*half + 8*l +: 8], 8'd0};
            if (lane_mask[l]) sum = sum + 35'(a * w);
        end
    end

    wire signed [34:0] shifted = sum >>> 5;
    assign term = shifted[31:0];
    // verilator lint_off UNUSEDSIGNAL
    wire unused_high = ^shifted[34:32];  // the sign-extension bits: |sum| < 2**33
    // verilator lint_on UNUSEDSIGNAL
endmodule
