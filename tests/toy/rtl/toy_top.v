// toy_top: the toy accelerator (tests/toy/toy.py) behind the Tandem port convention (rtl/README.md).
// A command is one 64-bit word: opcode [3:0], rd [7:4], rs1 [11:8], rs2 [15:12], shamt [20:16],
// addr [63:32]. ADD/XOR/SHL/MAC run through toy_alu on the scratchpad (toy_spad); LOAD reads one
// 16-byte DRAM beat into row rd, STORE writes row rs1 as one beat. One instruction is in flight at
// a time; it retires on unit 0. The top checks nothing the ILA rejects (opcode, alignment, range).
// Latency: an ALU instruction retires 2 cycles after it is accepted, a STORE 2, a LOAD 3.
module toy_top (
    input  wire         clk,
    input  wire         rst,
    input  wire         cmd_valid,
    output wire         cmd_ready,
    input  wire [63:0]  cmd_data,
    output reg  [0:0]   retire_valid,
    output reg  [31:0]  retire_index,
    output wire         busy,
    input  wire         serial_mode,
    output wire         mem_req_valid,
    input  wire         mem_req_ready,
    output wire         mem_req_we,
    output wire [31:0]  mem_req_addr,
    output wire [127:0] mem_req_wdata,
    output wire [15:0]  mem_req_wstrb,
    input  wire         mem_resp_valid,
    input  wire [127:0] mem_resp_data
);
    localparam logic [3:0] OP_LOAD = 4'd0, OP_STORE = 4'd1;
    localparam logic [1:0] S_IDLE = 2'd0, S_EXEC = 2'd1, S_WAIT = 2'd2;

    reg [1:0]  state;
    reg [63:0] cmd;
    reg [31:0] index, next_index;

    wire [3:0]  opcode   = cmd[3:0];
    wire [3:0]  rd       = cmd[7:4];
    wire [3:0]  rs1      = cmd[11:8];
    wire [3:0]  rs2      = cmd[15:12];
    wire [4:0]  shamt    = cmd[20:16];
    wire [31:0] addr     = cmd[63:32];
    wire        is_load  = opcode == OP_LOAD;
    wire        is_store = opcode == OP_STORE;

    wire [127:0] row_a, row_b, row_d, alu_y;
    toy_alu u_alu (.opcode(opcode), .shamt(shamt[3:0]), .a(row_a), .b(row_b), .d(row_d), .y(alu_y));

    wire alu_write  = state == S_EXEC && !is_load && !is_store;
    wire load_write = state == S_WAIT && mem_resp_valid;
    toy_spad u_spad (
        .clk(clk), .we(alu_write || load_write), .waddr(rd), .wdata(load_write ? mem_resp_data : alu_y),
        .raddr_a(rs1), .raddr_b(rs2), .raddr_c(rd), .rdata_a(row_a), .rdata_b(row_b), .rdata_c(row_d)
    );

    assign busy          = state != S_IDLE;
    assign cmd_ready     = state == S_IDLE && !(serial_mode && busy);
    assign mem_req_valid = state == S_EXEC && (is_load || is_store);
    assign mem_req_we    = is_store;
    assign mem_req_addr  = addr;
    assign mem_req_wdata = row_a;
    assign mem_req_wstrb = 16'hffff;

    always @(posedge clk) begin
        retire_valid <= 1'b0;
        if (rst) begin
            state      <= S_IDLE;
            next_index <= 32'd0;
        end else begin
            case (state)
                S_IDLE: if (cmd_valid && cmd_ready) begin
                    cmd        <= cmd_data;
                    index      <= next_index;
                    next_index <= next_index + 32'd1;
                    state      <= S_EXEC;
                end
                S_EXEC: begin
                    if (is_load) begin
                        if (mem_req_ready) state <= S_WAIT;
                    end else if (!is_store || mem_req_ready) begin  // the ALU's write or the STORE's beat is taken now
                        retire_valid <= 1'b1;
                        retire_index <= index;
                        state        <= S_IDLE;
                    end
                end
                S_WAIT: if (mem_resp_valid) begin
                    retire_valid <= 1'b1;
                    retire_index <= index;
                    state        <= S_IDLE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{cmd[31:21], shamt[4]};  // reserved bits and a shift the ILA rejects
    // verilator lint_on UNUSEDSIGNAL
endmodule
