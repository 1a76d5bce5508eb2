// vta_load: the load unit. Runs LOAD INP and LOAD WGT instructions one at a time in program
// order: waits for a compute->load token when pop_next is set, pops it, copies the tile from DRAM
// into the inp or wgt buffer (vta_mem_reader), then retires and pushes a load->compute token when
// push_next is set. pop_prev/push_prev are decode errors for this unit and are ignored.
// Latency: one cycle to start, then the tile (one beat or padding element per cycle); retires in
// the cycle its last write becomes visible.
module vta_load #(
    parameter int BLOCK_IN = 16,
    parameter int BLOCK_OUT = 16,
    parameter int INP_DEPTH = 2048,
    parameter int WGT_DEPTH = 1024
) (
    input  wire         clk,
    input  wire         rst,
    // command queue
    input  wire         q_empty,
    input  wire [159:0] q_head,
    output wire         q_pop,
    // dependency tokens
    input  wire         c2l_nonempty,
    output wire         pop_c2l,
    output wire         push_l2c,
    // DRAM
    output wire         mem_req_valid,
    input  wire         mem_req_ready,
    output wire [31:0]  mem_req_addr,
    input  wire         mem_resp_valid,
    input  wire [127:0] mem_resp_data,
    // buffers
    output wire                             inp_we,
    output wire [$clog2(INP_DEPTH)-1:0]     inp_waddr,
    output wire [BLOCK_IN*8-1:0]            inp_wdata,
    output wire                             wgt_we,
    output wire [$clog2(WGT_DEPTH)-1:0]     wgt_waddr,
    output wire [BLOCK_OUT*BLOCK_IN*8-1:0]  wgt_wdata,
    // retirement
    output wire         busy,
    output reg          retire_valid,
    output reg  [31:0]  retire_index
);
    localparam int WGT_BITS = BLOCK_OUT * BLOCK_IN * 8;
    localparam int INP_BITS = BLOCK_IN * 8;
    localparam int DATA_BITS = WGT_BITS > INP_BITS ? WGT_BITS : INP_BITS;
    localparam logic [3:0] INP_LOG = 4'($clog2(BLOCK_IN));
    localparam logic [3:0] WGT_LOG = 4'($clog2(BLOCK_OUT * BLOCK_IN));
    localparam logic [2:0] MEM_INP = 3'd2;

    reg        active;
    reg        to_inp;
    reg        push_next;
    reg [31:0] index;

    wire        head_pop_next = q_head[4];
    wire        head_to_inp   = q_head[9:7] == MEM_INP;
    wire        start = !active && !q_empty && (!head_pop_next || c2l_nonempty);
    wire        finish;
    wire        sram_we;
    // verilator lint_off UNUSEDSIGNAL
    wire [31:0] sram_addr;  // high bits unused: rows past a buffer are decode errors
    // verilator lint_on UNUSEDSIGNAL
    wire [DATA_BITS-1:0] sram_wdata;

    vta_mem_reader #(.DATA_BITS(DATA_BITS)) u_reader (
        .clk(clk), .rst(rst), .start(start), .insn(q_head[127:0]),
        .elem_log_bytes(head_to_inp ? INP_LOG : WGT_LOG), .finish(finish),
        .mem_req_valid(mem_req_valid), .mem_req_ready(mem_req_ready), .mem_req_addr(mem_req_addr),
        .mem_resp_valid(mem_resp_valid), .mem_resp_data(mem_resp_data),
        .sram_we(sram_we), .sram_addr(sram_addr), .sram_wdata(sram_wdata)
    );

    assign q_pop     = start;
    assign pop_c2l   = start && head_pop_next;
    assign push_l2c  = finish && push_next;
    assign busy      = active;
    assign inp_we    = sram_we && to_inp;
    assign inp_waddr = sram_addr[$clog2(INP_DEPTH)-1:0];
    assign inp_wdata = sram_wdata[INP_BITS-1:0];
    assign wgt_we    = sram_we && !to_inp;
    assign wgt_waddr = sram_addr[$clog2(WGT_DEPTH)-1:0];
    assign wgt_wdata = sram_wdata[WGT_BITS-1:0];

    always @(posedge clk) begin
        if (rst) begin
            active       <= 1'b0;
            retire_valid <= 1'b0;
        end else begin
            retire_valid <= finish;
            if (finish) begin
                active       <= 1'b0;
                retire_index <= index;
            end
            if (start) begin
                active    <= 1'b1;
                to_inp    <= head_to_inp;
                push_next <= q_head[6];
                index     <= q_head[159:128];
            end
        end
    end
endmodule
