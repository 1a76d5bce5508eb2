// flexasr_gb: the global buffer: the large (65536 rows) and small (1024 rows) buffers, the seven GB
// configuration beats (rows in GB_CONFIGS order), and the GB operations started by a START write
// (op 1 gb_control, 2 layer_reduce, 3 layer_norm, 4 zero_padding, 5 attention; any other op
// finishes at once). The host port writes and reads the buffers and configuration beats (sel 0
// large, 1 small, 2 config); host_rdata is registered (1 cycle). The operation holding the buffers
// is the one latched at start; `done` pulses when it has made all of its writes.
// Latency: that of the operation started, plus 1 cycle.
module flexasr_gb (
    input  wire         clk,
    input  wire         rst,
    input  wire         host_we,
    input  wire [1:0]   host_sel,
    input  wire [15:0]  host_addr,
    input  wire [127:0] host_wdata,
    output wire [127:0] host_rdata,
    input  wire         start,
    input  wire [2:0]   start_op,
    output wire         busy,
    output wire         done,
    // the PEs (for gb_control)
    input  wire [3:0]   pe_valid,
    input  wire [3:0]   pe_busy,
    output wire         pe_start,
    output wire         pe_in_we,
    output wire         pe_in_sel,
    output wire [7:0]   pe_in_index,
    output wire [127:0] pe_in_data,
    output wire [7:0]   pe_out_raddr,
    input  wire [511:0] pe_out_rdata,
    input  wire [3:0]   pe_out_rhit
);
    localparam logic [2:0] OP_NONE = 3'd0, OP_CONTROL = 3'd1, OP_REDUCE = 3'd2, OP_NORM = 3'd3,
                           OP_PAD = 3'd4, OP_ATTN = 3'd5;
    localparam logic [1:0] SEL_LARGE = 2'd0, SEL_SMALL = 2'd1;

    reg [127:0] cfg [0:6] /*verilator public_flat_rd*/;
    reg [127:0] cfg_rdata;
    reg [1:0]   rsel;
    reg [2:0]   op;
    reg         other_done;

    always @(posedge clk) begin
        if (host_we && host_sel == 2'd2) cfg[host_addr[2:0]] <= host_wdata;
        cfg_rdata <= cfg[host_addr[2:0]];
        rsel      <= host_sel;
    end

    // ---- operations
    wire         ctl_done, red_done, norm_done, pad_done, attn_done;
    wire [15:0]  attn_raddr;
    wire [9:0]   attn_small_raddr, attn_waddr;
    wire         attn_we;
    wire [127:0] attn_wdata;
    wire         ctl_small, ctl_we, red_we, norm_we, pad_we;
    wire [15:0]  ctl_raddr, ctl_waddr, red_raddr, red_waddr, norm_raddr, norm_waddr, pad_waddr;
    wire [127:0] ctl_wdata, red_wdata, norm_wdata;
    wire [9:0]   norm_small_raddr;
    wire [127:0] large_rdata, small_rdata;
    wire         go = start && op == OP_NONE;

    flexasr_gb_control u_control (
        .clk(clk), .rst(rst), .start(go && start_op == OP_CONTROL), .cfg(cfg[2]), .cfg_large(cfg[0]),
        .cfg_small(cfg[1]), .buf_small(ctl_small), .buf_raddr(ctl_raddr),
        .buf_rdata(ctl_small ? small_rdata : large_rdata), .buf_we(ctl_we), .buf_waddr(ctl_waddr),
        .buf_wdata(ctl_wdata), .pe_valid(pe_valid), .pe_busy(pe_busy), .pe_start(pe_start),
        .pe_in_we(pe_in_we), .pe_in_sel(pe_in_sel), .pe_in_index(pe_in_index), .pe_in_data(pe_in_data),
        .pe_out_raddr(pe_out_raddr), .pe_out_rdata(pe_out_rdata), .pe_out_rhit(pe_out_rhit),
        .done(ctl_done)
    );
    flexasr_layer_reduce u_reduce (
        .clk(clk), .rst(rst), .start(go && start_op == OP_REDUCE), .cfg(cfg[3]), .cfg_large(cfg[0]),
        .buf_raddr(red_raddr), .buf_rdata(large_rdata), .buf_we(red_we), .buf_waddr(red_waddr),
        .buf_wdata(red_wdata), .done(red_done)
    );
    flexasr_layer_norm u_norm (
        .clk(clk), .rst(rst), .start(go && start_op == OP_NORM), .cfg(cfg[4]), .cfg_large(cfg[0]),
        .cfg_small(cfg[1]), .buf_raddr(norm_raddr), .buf_rdata(large_rdata), .buf_we(norm_we),
        .buf_waddr(norm_waddr), .buf_wdata(norm_wdata), .gb_raddr(norm_small_raddr),
        .gb_rdata(small_rdata), .done(norm_done)
    );
    flexasr_zero_padding u_pad (
        .clk(clk), .rst(rst), .start(go && start_op == OP_PAD), .cfg(cfg[5]), .cfg_large(cfg[0]),
        .buf_we(pad_we), .buf_waddr(pad_waddr), .done(pad_done)
    );

    flexasr_attention u_attn (
        .clk(clk), .rst(rst), .start(go && start_op == OP_ATTN), .cfg(cfg[6]), .cfg_large(cfg[0]),
        .cfg_small(cfg[1]), .buf_raddr(attn_raddr), .buf_rdata(large_rdata), .gb_raddr(attn_small_raddr),
        .gb_rdata(small_rdata), .gb_we(attn_we), .gb_waddr(attn_waddr), .gb_wdata(attn_wdata),
        .done(attn_done)
    );

    always @(posedge clk) begin
        other_done <= 1'b0;
        if (rst) begin
            op <= OP_NONE;
        end else if (go) begin
            if (start_op >= OP_CONTROL && start_op <= OP_ATTN) op <= start_op;
            else other_done <= 1'b1;  // no such operation (the ILA has no START there)
        end else if (ctl_done || red_done || norm_done || pad_done || attn_done) begin
            op <= OP_NONE;
        end
    end
    assign busy = op != OP_NONE;
    assign done = ctl_done || red_done || norm_done || pad_done || attn_done || other_done;

    // ---- the buffers, shared by the host (when idle) and the running operation
    reg          large_we;
    reg  [15:0]  large_waddr, large_raddr;
    reg  [127:0] large_wdata;
    always @* begin
        large_we    = host_we && host_sel == SEL_LARGE;
        large_waddr = host_addr;
        large_wdata = host_wdata;
        large_raddr = host_addr;
        case (op)
            OP_CONTROL: begin
                large_we = ctl_we && !ctl_small; large_waddr = ctl_waddr; large_wdata = ctl_wdata;
                large_raddr = ctl_raddr;
            end
            OP_REDUCE: begin
                large_we = red_we; large_waddr = red_waddr; large_wdata = red_wdata; large_raddr = red_raddr;
            end
            OP_NORM: begin
                large_we = norm_we; large_waddr = norm_waddr; large_wdata = norm_wdata; large_raddr = norm_raddr;
            end
            OP_PAD: begin
                large_we = pad_we; large_waddr = pad_waddr; large_wdata = 128'd0;
            end
            OP_ATTN: begin
                large_we = 1'b0; large_raddr = attn_raddr;
            end
            default: ;
        endcase
    end
    wire         small_we    = op == OP_CONTROL ? ctl_we && ctl_small : (op == OP_ATTN ? attn_we : host_we && host_sel == SEL_SMALL);
    wire [9:0]   small_waddr = op == OP_CONTROL ? ctl_waddr[9:0] : (op == OP_ATTN ? attn_waddr : host_addr[9:0]);
    wire [127:0] small_wdata = op == OP_CONTROL ? ctl_wdata : (op == OP_ATTN ? attn_wdata : host_wdata);
    wire [9:0]   small_raddr = op == OP_CONTROL ? ctl_raddr[9:0] : (op == OP_NORM ? norm_small_raddr :
                               (op == OP_ATTN ? attn_small_raddr : host_addr[9:0]));

    flexasr_sram #(.DEPTH(65536)) u_large (
        .clk(clk), .we(large_we), .waddr(large_waddr), .wdata(large_wdata), .raddr(large_raddr),
        .rdata(large_rdata)
    );
    flexasr_sram #(.DEPTH(1024)) u_small (
        .clk(clk), .we(small_we), .waddr(small_waddr), .wdata(small_wdata), .raddr(small_raddr),
        .rdata(small_rdata)
    );
    assign host_rdata = rsel == SEL_LARGE ? large_rdata : (rsel == SEL_SMALL ? small_rdata : cfg_rdata);
endmodule
