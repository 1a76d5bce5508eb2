// vta_fetch: the command port. Accepts 128-bit instructions, numbers them 0, 1, 2, ... and
// dispatches each to its unit's command queue: LOAD of INP/WGT -> load (bit 0); STORE -> store
// (bit 2); everything else (LOAD of UOP/ACC, GEMM, ALU, FINISH, and undecodable words) -> compute
// (bit 1). Latency: a command accepted at an edge is in its queue after the next edge (one
// holding register); throughput one command per cycle while the target queue has room.
// serial_mode: accept only when nothing is in flight (busy_in low).
module vta_fetch (
    input  wire         clk,
    input  wire         rst,
    input  wire         serial_mode,
    input  wire         busy_in,
    input  wire         cmd_valid,
    output wire         cmd_ready,
    input  wire [127:0] cmd_data,
    output wire         pending,
    output wire [2:0]   q_push,
    output wire [159:0] q_data,
    input  wire [2:0]   q_full
);
    localparam logic [2:0] OP_LOAD = 3'd0;
    localparam logic [2:0] OP_STORE = 3'd1;
    localparam logic [2:0] MEM_WGT = 3'd1;
    localparam logic [2:0] MEM_INP = 3'd2;

    reg         pend_valid;
    reg [127:0] pend_insn;
    reg [31:0]  pend_index;
    reg [31:0]  next_index;

    wire [2:0] opcode   = pend_insn[2:0];
    wire [2:0] mem_type = pend_insn[9:7];
    wire to_load  = opcode == OP_LOAD && (mem_type == MEM_INP || mem_type == MEM_WGT);
    wire to_store = opcode == OP_STORE;
    wire [2:0] target = {to_store, !to_load && !to_store, to_load};
    wire dispatch = pend_valid && (target & q_full) == 3'b000;

    assign pending   = pend_valid;
    assign cmd_ready = (!pend_valid || dispatch) && !(serial_mode && busy_in);
    assign q_push    = dispatch ? target : 3'b000;
    assign q_data    = {pend_index, pend_insn};

    always @(posedge clk) begin
        if (rst) begin
            pend_valid <= 1'b0;
            next_index <= 32'd0;
        end else begin
            if (dispatch) pend_valid <= 1'b0;
            if (cmd_valid && cmd_ready) begin
                pend_valid <= 1'b1;
                pend_insn  <= cmd_data;
                pend_index <= next_index;
                next_index <= next_index + 32'd1;
            end
        end
    end
endmodule
