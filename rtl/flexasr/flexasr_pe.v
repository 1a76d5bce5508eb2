// flexasr_pe: one FlexASR processing element: its weight (65536 rows), input (256) and activation
// (32) buffers, its eight configuration beats (rows in PE_CONFIGS order), the PE core
// (flexasr_pe_core) and the activation unit (flexasr_act_unit), and the output buffer the GB drains.
// Host port: MMIO writes and reads of the buffers and configuration beats (sel 0 config, 1 weight,
// 2 input, 3 act); host_rdata is registered (1 cycle). GB port: input-buffer writes at the first
// (in_sel 0) or second (in_sel 1) manager's base_input + in_index, a start pulse per timestep,
// `busy` while running, output vector reads (registered, with a hit bit per vector written).
// On start (when rnn_layer_sizing.is_valid): core, clear rnn_layer_sizing.is_zero_first, then (when
// act_mngr.is_valid) the activation unit, then clear act_mngr.is_zero_first.
// Latency of a timestep: the core's plus the activation unit's plus 3 cycles.
module flexasr_pe (
    input  wire         clk,
    input  wire         rst,
    input  wire         host_we,
    input  wire [1:0]   host_sel,
    input  wire [15:0]  host_addr,
    input  wire [127:0] host_wdata,
    output wire [127:0] host_rdata,
    input  wire         in_we,
    input  wire         in_sel,
    input  wire [7:0]   in_index,
    input  wire [127:0] in_data,
    input  wire         start,
    output wire         busy,
    output wire         valid,
    input  wire [7:0]   out_raddr,
    output reg  [127:0] out_rdata,
    output reg          out_rhit
);
    localparam logic [1:0] S_IDLE = 2'd0, S_CORE = 2'd1, S_ACT = 2'd2;
    localparam logic [1:0] SEL_CONFIG = 2'd0, SEL_WEIGHT = 2'd1, SEL_INPUT = 2'd2;

    reg [127:0] cfg [0:7] /*verilator public_flat_rd*/;
    reg [1:0]   state;
    reg [127:0] cfg_rdata;
    reg [1:0]   rsel;
    reg [127:0] out_buf [0:255];
    reg [255:0] out_hit;

    wire [127:0] sizing  = cfg[0];
    wire [127:0] act_cfg = cfg[5];
    assign valid = sizing[0];
    assign busy  = state != S_IDLE;

    // ---- buffers
    wire [15:0]  core_w_raddr;
    wire [7:0]   core_in_raddr;
    wire [4:0]   act_raddr, act_waddr;
    wire         act_we;
    wire [127:0] act_wdata, w_rdata, in_rdata, act_rdata;
    wire [7:0]   in_base = in_sel ? cfg[3][87:80] : cfg[1][87:80];

    flexasr_sram #(.DEPTH(65536)) u_weight (
        .clk(clk), .we(host_we && host_sel == SEL_WEIGHT), .waddr(host_addr), .wdata(host_wdata),
        .raddr(busy ? core_w_raddr : host_addr), .rdata(w_rdata)
    );
    flexasr_sram #(.DEPTH(256)) u_input (
        .clk(clk), .we((host_we && host_sel == SEL_INPUT) || (in_we && valid)),
        .waddr(in_we ? in_base + in_index : host_addr[7:0]), .wdata(in_we ? in_data : host_wdata),
        .raddr(busy ? core_in_raddr : host_addr[7:0]), .rdata(in_rdata)
    );
    flexasr_sram #(.DEPTH(32)) u_act (
        .clk(clk), .we((host_we && host_sel == 2'd3) || act_we),
        .waddr(busy ? act_waddr : host_addr[4:0]), .wdata(busy ? act_wdata : host_wdata),
        .raddr(busy ? act_raddr : host_addr[4:0]), .rdata(act_rdata)
    );

    always @(posedge clk) begin
        cfg_rdata <= cfg[host_addr[2:0]];
        rsel      <= host_sel;
    end
    assign host_rdata = rsel == SEL_CONFIG ? cfg_rdata : (rsel == SEL_WEIGHT ? w_rdata :
                        (rsel == SEL_INPUT ? in_rdata : act_rdata));

    // ---- core and activation unit
    wire         core_done, act_done, core_active, act_active, co_we, out_we;
    wire [8:0]   co_addr, core_raddr;
    wire [319:0] co_wdata;
    reg  [319:0] core_out [0:511];
    reg  [319:0] core_rdata;
    wire [7:0]   out_addr;
    wire [127:0] out_data;
    wire         core_start = state == S_IDLE && start && valid;
    reg          act_start;

    flexasr_pe_core u_core (
        .clk(clk), .rst(rst), .start(core_start), .sizing(sizing), .mgr_first(cfg[1]),
        .mgr_second(cfg[3]), .table_first(cfg[2]), .table_second(cfg[4]),
        .w_raddr(core_w_raddr), .w_rdata(w_rdata), .in_raddr(core_in_raddr), .in_rdata(in_rdata),
        .co_we(co_we), .co_addr(co_addr), .co_wdata(co_wdata), .active(core_active), .done(core_done)
    );
    always @(posedge clk) begin
        if (co_we) core_out[co_addr] <= co_wdata;
        core_rdata <= core_out[core_raddr];
    end

    flexasr_act_unit u_act_unit (
        .clk(clk), .rst(rst), .start(act_start), .is_zero_first(act_cfg[8]), .bias(act_cfg[18:16]),
        .num_inst(act_cfg[29:24]), .num_output(act_cfg[39:32]), .buffer_addr_base(act_cfg[52:48]),
        .output_addr_base(act_cfg[71:64]), .program_bytes({cfg[7], cfg[6]}),
        .act_raddr(act_raddr), .act_rdata(act_rdata), .act_we(act_we), .act_waddr(act_waddr),
        .act_wdata(act_wdata), .core_raddr(core_raddr), .core_rdata(core_rdata),
        .out_we(out_we), .out_addr(out_addr), .out_data(out_data), .active(act_active), .done(act_done)
    );

    always @(posedge clk) begin
        out_rdata <= out_buf[out_raddr];
        out_rhit  <= out_hit[out_raddr];
        if (out_we) out_buf[out_addr] <= out_data;
        if (rst || core_start) out_hit <= 256'd0;
        else if (out_we) out_hit[out_addr] <= 1'b1;
    end

    // ---- sequencing; configuration writes from the host
    always @(posedge clk) begin
        act_start <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            if (host_we && host_sel == SEL_CONFIG) cfg[host_addr[2:0]] <= host_wdata;
            case (state)
                S_IDLE: if (core_start) state <= S_CORE;
                S_CORE: if (core_done) begin
                    cfg[0][15:8] <= 8'd0;  // is_zero_first holds for one timestep
                    if (act_cfg[0]) begin
                        act_start <= 1'b1;
                        state     <= S_ACT;
                    end else begin
                        state <= S_IDLE;
                    end
                end
                S_ACT: if (act_done) begin
                    cfg[5][15:8] <= 8'd0;
                    state        <= S_IDLE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // verilator lint_off UNUSEDSIGNAL
    wire unused = ^{core_active, act_active, act_cfg[127:72], act_cfg[63:53], act_cfg[47:40],
                    act_cfg[31:30], act_cfg[23:19], act_cfg[15:9], act_cfg[7:1], sizing[127:1],
                    host_addr[15:8]};
    // verilator lint_on UNUSEDSIGNAL
endmodule
