// vta_alu: one ALU micro-op iteration over a row of BLOCK_OUT int32 lanes:
// out[j] = f(a[j], b[j]) in wrapping int32 with f = MIN (0), MAX (1), ADD (2), SHR (3), MUL (4)
// (docs/vta.md, ALU). SHR takes the low 6 bits of b as a signed shift s: s >= 0 shifts right
// arithmetically by s, s < 0 shifts left by -s (a left shift by 32 gives 0). MUL keeps the low
// 32 bits. b is the immediate (sign-extended) for every lane when use_imm. reset gives 0.
// Undefined opcodes (a decode error) return a. Latency: combinational.
module vta_alu #(
    parameter int BLOCK_OUT = 16
) (
    input  wire                    reset,
    input  wire [2:0]              opcode,
    input  wire                    use_imm,
    input  wire [15:0]             imm,
    input  wire [BLOCK_OUT*32-1:0] a,
    input  wire [BLOCK_OUT*32-1:0] b,
    output wire [BLOCK_OUT*32-1:0] result
);
    localparam logic [2:0] OP_MIN = 3'd0;
    localparam logic [2:0] OP_MAX = 3'd1;
    localparam logic [2:0] OP_ADD = 3'd2;
    localparam logic [2:0] OP_SHR = 3'd3;
    localparam logic [2:0] OP_MUL = 3'd4;

    wire [31:0] imm32 = {{16{imm[15]}}, imm};

    genvar j;
    generate
        for (j = 0; j < BLOCK_OUT; j = j + 1) begin : g_lane
            wire signed [31:0] x = a[32*j +: 32];
            wire signed [31:0] y = use_imm ? imm32 : b[32*j +: 32];
            wire [5:0]  shift = y[5:0];
            wire [5:0]  left  = 6'd0 - shift;  // 1..32 when shift is negative
            wire [31:0] product = x * y;  // the low 32 bits do not depend on signedness
            reg  [31:0] value;
            always @(*) begin
                case (opcode)
                    OP_MIN:  value = x < y ? x : y;
                    OP_MAX:  value = x > y ? x : y;
                    OP_ADD:  value = x + y;
                    OP_SHR:  value = shift[5] ? (x <<< left) : (x >>> shift[4:0]);
                    OP_MUL:  value = product;
                    default: value = x;
                endcase
            end
            assign result[32*j +: 32] = reset ? 32'd0 : value;
        end
    endgenerate
endmodule
