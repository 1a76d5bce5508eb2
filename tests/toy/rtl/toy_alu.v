// toy_alu: the toy's lane-wise ALU over 8 lanes of 16 bits, every result mod 2^16.
// Computes, per lane: ADD a + b, XOR a ^ b, SHL a << shamt, MAC d + a * b (d: the destination
// row's old value); any other opcode gives 0.
// Latency: combinational.
module toy_alu (
    input  wire [3:0]   opcode,
    input  wire [3:0]   shamt,
    input  wire [127:0] a,
    input  wire [127:0] b,
    input  wire [127:0] d,
    output wire [127:0] y
);
    localparam logic [3:0] OP_ADD = 4'd2, OP_XOR = 4'd3, OP_SHL = 4'd4, OP_MAC = 4'd5;

    for (genvar k = 0; k < 8; k++) begin : g_lane
        wire [15:0] la = a[16*k +: 16];
        wire [15:0] lb = b[16*k +: 16];
        wire [15:0] ld = d[16*k +: 16];
        wire [15:0] product = la * lb;
        reg  [15:0] ly;
        always @(*) begin
            case (opcode)
                OP_ADD:  ly = la + lb;
                OP_XOR:  ly = la ^ lb;
                OP_SHL:  ly = la << shamt;
                OP_MAC:  ly = ld + product;
                default: ly = 16'd0;
            endcase
        end
        assign y[16*k +: 16] = ly;
    end
endmodule
