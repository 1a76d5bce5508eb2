// vta_top: our VTA (docs/vta.md) as decoupled access-execute hardware behind the Tandem port
// convention (rtl/README.md): fetch numbers the commands and dispatches them to the load (unit 0),
// compute (unit 1) and store (unit 2) command queues; the three units run concurrently and
// synchronise through four dependency-token queues (l2c, c2l, c2s, s2c); they share the uop, inp,
// wgt, acc and out buffers and, through a round-robin arbiter, the single DRAM port.
// Latency: a command reaches its queue two edges after it is offered; each unit's latency is in
// its own header. retire_valid/retire_index are registered per unit.
module vta_top #(
    parameter int BLOCK_IN = 16,
    parameter int BLOCK_OUT = 16,
    parameter int UOP_DEPTH = 8192,
    parameter int INP_DEPTH = 2048,
    parameter int WGT_DEPTH = 1024,
    parameter int ACC_DEPTH = 2048
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         cmd_valid,
    output wire         cmd_ready,
    input  wire [127:0] cmd_data,
    output wire [2:0]   retire_valid,
    output wire [95:0]  retire_index,
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
    localparam int UOP_AW = $clog2(UOP_DEPTH);
    localparam int INP_AW = $clog2(INP_DEPTH);
    localparam int WGT_AW = $clog2(WGT_DEPTH);
    localparam int ACC_AW = $clog2(ACC_DEPTH);
    localparam int INP_BITS = BLOCK_IN * 8;
    localparam int WGT_BITS = BLOCK_OUT * BLOCK_IN * 8;
    localparam int ACC_BITS = BLOCK_OUT * 32;
    localparam int OUT_BITS = BLOCK_OUT * 8;

    // ---- fetch and the command queues
    wire         pending;
    wire [2:0]   q_push, q_full, q_empty, q_pop, unit_busy;
    wire [159:0] q_data;
    wire [159:0] q_head [0:2];

    assign busy = pending || q_empty != 3'b111 || unit_busy != 3'b000;

    vta_fetch u_fetch (
        .clk(clk), .rst(rst), .serial_mode(serial_mode), .busy_in(busy),
        .cmd_valid(cmd_valid), .cmd_ready(cmd_ready), .cmd_data(cmd_data),
        .pending(pending), .q_push(q_push), .q_data(q_data), .q_full(q_full)
    );

    genvar q;
    generate
        for (q = 0; q < 3; q = q + 1) begin : g_queue
            vta_cmd_queue #(.WIDTH(160), .LOG_DEPTH(4)) u_queue (
                .clk(clk), .rst(rst), .push(q_push[q]), .push_data(q_data), .full(q_full[q]),
                .pop(q_pop[q]), .head(q_head[q]), .empty(q_empty[q])
            );
        end
    endgenerate

    // ---- dependency tokens
    wire push_l2c, pop_l2c, l2c_nonempty;
    wire push_c2l, pop_c2l, c2l_nonempty;
    wire push_c2s, pop_c2s, c2s_nonempty;
    wire push_s2c, pop_s2c, s2c_nonempty;
    vta_token_queue u_l2c (.clk(clk), .rst(rst), .push(push_l2c), .pop(pop_l2c), .nonempty(l2c_nonempty));
    vta_token_queue u_c2l (.clk(clk), .rst(rst), .push(push_c2l), .pop(pop_c2l), .nonempty(c2l_nonempty));
    vta_token_queue u_c2s (.clk(clk), .rst(rst), .push(push_c2s), .pop(pop_c2s), .nonempty(c2s_nonempty));
    vta_token_queue u_s2c (.clk(clk), .rst(rst), .push(push_s2c), .pop(pop_s2c), .nonempty(s2c_nonempty));

    // ---- buffers
    wire                uop_we;
    wire [UOP_AW-1:0]   uop_waddr, uop_raddr;
    wire [31:0]         uop_wdata, uop_rdata;
    wire                inp_we;
    wire [INP_AW-1:0]   inp_waddr, inp_raddr;
    wire [INP_BITS-1:0] inp_wdata, inp_rdata;
    wire                wgt_we;
    wire [WGT_AW-1:0]   wgt_waddr, wgt_raddr;
    wire [WGT_BITS-1:0] wgt_wdata, wgt_rdata;
    wire                acc_we;
    wire [ACC_AW-1:0]   acc_waddr, acc_raddr0, acc_raddr1;
    wire [ACC_BITS-1:0] acc_wdata, acc_rdata0, acc_rdata1;
    wire                out_we;
    wire [ACC_AW-1:0]   out_waddr, out_raddr;
    wire [OUT_BITS-1:0] out_wdata, out_rdata;

    vta_sram #(.WIDTH(32), .DEPTH(UOP_DEPTH)) u_uop (
        .clk(clk), .we(uop_we), .waddr(uop_waddr), .wdata(uop_wdata), .raddr(uop_raddr), .rdata(uop_rdata)
    );
    vta_sram #(.WIDTH(INP_BITS), .DEPTH(INP_DEPTH)) u_inp (
        .clk(clk), .we(inp_we), .waddr(inp_waddr), .wdata(inp_wdata), .raddr(inp_raddr), .rdata(inp_rdata)
    );
    vta_sram #(.WIDTH(WGT_BITS), .DEPTH(WGT_DEPTH)) u_wgt (
        .clk(clk), .we(wgt_we), .waddr(wgt_waddr), .wdata(wgt_wdata), .raddr(wgt_raddr), .rdata(wgt_rdata)
    );
    vta_sram_2r #(.WIDTH(ACC_BITS), .DEPTH(ACC_DEPTH)) u_acc (
        .clk(clk), .we(acc_we), .waddr(acc_waddr), .wdata(acc_wdata),
        .raddr0(acc_raddr0), .rdata0(acc_rdata0), .raddr1(acc_raddr1), .rdata1(acc_rdata1)
    );
    vta_sram #(.WIDTH(OUT_BITS), .DEPTH(ACC_DEPTH)) u_out (
        .clk(clk), .we(out_we), .waddr(out_waddr), .wdata(out_wdata), .raddr(out_raddr), .rdata(out_rdata)
    );

    // ---- DRAM arbiter
    wire [2:0]  req_valid, req_grant;
    // verilator lint_off UNUSEDSIGNAL
    wire [2:0]  resp_valid;  // bit 2 (store) unused: the store unit only writes
    // verilator lint_on UNUSEDSIGNAL
    wire [31:0] load_addr, compute_addr, store_addr;
    wire [127:0] store_wdata;
    wire [15:0]  store_wstrb;
    vta_dram_arbiter u_arbiter (
        .clk(clk), .rst(rst),
        .req_valid(req_valid), .req_we(3'b100),
        .req_addr({store_addr, compute_addr, load_addr}),
        .req_wdata({store_wdata, 256'd0}), .req_wstrb({store_wstrb, 32'd0}),
        .req_grant(req_grant), .resp_valid(resp_valid),
        .mem_req_valid(mem_req_valid), .mem_req_ready(mem_req_ready), .mem_req_we(mem_req_we),
        .mem_req_addr(mem_req_addr), .mem_req_wdata(mem_req_wdata), .mem_req_wstrb(mem_req_wstrb),
        .mem_resp_valid(mem_resp_valid)
    );

    // ---- the units
    wire        load_retire, compute_retire, store_retire;
    wire [31:0] load_index, compute_index, store_index;
    assign retire_valid = {store_retire, compute_retire, load_retire};
    assign retire_index = {store_index, compute_index, load_index};

    vta_load #(.BLOCK_IN(BLOCK_IN), .BLOCK_OUT(BLOCK_OUT), .INP_DEPTH(INP_DEPTH), .WGT_DEPTH(WGT_DEPTH)) u_load (
        .clk(clk), .rst(rst), .q_empty(q_empty[0]), .q_head(q_head[0]), .q_pop(q_pop[0]),
        .c2l_nonempty(c2l_nonempty), .pop_c2l(pop_c2l), .push_l2c(push_l2c),
        .mem_req_valid(req_valid[0]), .mem_req_ready(req_grant[0]), .mem_req_addr(load_addr),
        .mem_resp_valid(resp_valid[0]), .mem_resp_data(mem_resp_data),
        .inp_we(inp_we), .inp_waddr(inp_waddr), .inp_wdata(inp_wdata),
        .wgt_we(wgt_we), .wgt_waddr(wgt_waddr), .wgt_wdata(wgt_wdata),
        .busy(unit_busy[0]), .retire_valid(load_retire), .retire_index(load_index)
    );

    vta_compute #(
        .BLOCK_IN(BLOCK_IN), .BLOCK_OUT(BLOCK_OUT), .UOP_DEPTH(UOP_DEPTH),
        .INP_DEPTH(INP_DEPTH), .WGT_DEPTH(WGT_DEPTH), .ACC_DEPTH(ACC_DEPTH)
    ) u_compute (
        .clk(clk), .rst(rst), .q_empty(q_empty[1]), .q_head(q_head[1]), .q_pop(q_pop[1]),
        .l2c_nonempty(l2c_nonempty), .s2c_nonempty(s2c_nonempty),
        .pop_l2c(pop_l2c), .pop_s2c(pop_s2c), .push_c2l(push_c2l), .push_c2s(push_c2s),
        .mem_req_valid(req_valid[1]), .mem_req_ready(req_grant[1]), .mem_req_addr(compute_addr),
        .mem_resp_valid(resp_valid[1]), .mem_resp_data(mem_resp_data),
        .uop_we(uop_we), .uop_waddr(uop_waddr), .uop_wdata(uop_wdata),
        .uop_raddr(uop_raddr), .uop_rdata(uop_rdata),
        .inp_raddr(inp_raddr), .inp_rdata(inp_rdata), .wgt_raddr(wgt_raddr), .wgt_rdata(wgt_rdata),
        .acc_we(acc_we), .acc_waddr(acc_waddr), .acc_wdata(acc_wdata),
        .acc_raddr0(acc_raddr0), .acc_rdata0(acc_rdata0), .acc_raddr1(acc_raddr1), .acc_rdata1(acc_rdata1),
        .out_we(out_we), .out_waddr(out_waddr), .out_wdata(out_wdata),
        .busy(unit_busy[1]), .retire_valid(compute_retire), .retire_index(compute_index)
    );

    vta_store #(.BLOCK_OUT(BLOCK_OUT), .ACC_DEPTH(ACC_DEPTH)) u_store (
        .clk(clk), .rst(rst), .q_empty(q_empty[2]), .q_head(q_head[2]), .q_pop(q_pop[2]),
        .c2s_nonempty(c2s_nonempty), .pop_c2s(pop_c2s), .push_s2c(push_s2c),
        .mem_req_valid(req_valid[2]), .mem_req_ready(req_grant[2]), .mem_req_addr(store_addr),
        .mem_req_wdata(store_wdata), .mem_req_wstrb(store_wstrb),
        .out_raddr(out_raddr), .out_rdata(out_rdata),
        .busy(unit_busy[2]), .retire_valid(store_retire), .retire_index(store_index)
    );
endmodule
