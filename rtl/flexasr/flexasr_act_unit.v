// flexasr_act_unit: a PE's activation unit (ila_models/flexasr_pe.py ActUnit). On `start` it zeroes
// A0..A3 (16 lanes x 20 bits each) and runs its num_inst micro-ops num_output times
// (op [7:4], A2 [3:2], A1 [1:0]):
//   LOAD  A2 = act buffer [buffer_addr_base + out] decoded with `bias` (0 while is_zero_first)
//   STORE act buffer [buffer_addr_base + out] = A2 encoded with `bias`
//   INPE  A2 = next core output (the core-output buffer, in order)
//   OUTGB output vector output_addr_base + out = A2 encoded (to the PE's output buffer for the GB)
//   COPY EADD EMUL SIGM TANH RELU ONEX: flexasr_act_lane on every lane.
// Unknown opcodes (the ILA rejects them) do nothing. Latency: 1 cycle per micro-op, 2 for LOAD
// and INPE (a buffer read), plus 1; `done` pulses when the run is over.
module flexasr_act_unit (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire         is_zero_first,
    input  wire [2:0]   bias,
    input  wire [5:0]   num_inst,
    input  wire [7:0]   num_output,
    input  wire [4:0]   buffer_addr_base,
    input  wire [7:0]   output_addr_base,
    input  wire [255:0] program_bytes,
    // act buffer
    output wire [4:0]   act_raddr,
    input  wire [127:0] act_rdata,
    output wire         act_we,
    output wire [4:0]   act_waddr,
    output wire [127:0] act_wdata,
    // core outputs (registered read)
    output wire [8:0]   core_raddr,
    input  wire [319:0] core_rdata,
    // output vectors for the GB
    output wire         out_we,
    output wire [7:0]   out_addr,
    output wire [127:0] out_data,
    output wire         active,
    output reg          done
);
    localparam logic [1:0] S_IDLE = 2'd0, S_EXEC = 2'd1, S_LOADW = 2'd2, S_INPEW = 2'd3;
    localparam logic [3:0] LOAD = 4'h1, STORE = 4'h2, INPE = 4'h3, OUTGB = 4'h4;

    reg [1:0]   state;
    reg [5:0]   k;
    reg [7:0]   out;
    reg [8:0]   next_in;
    reg [319:0] regs [0:3];

    wire [7:0]   inst = program_bytes[8*k[4:0] +: 8];
    wire [3:0]   op   = inst[7:4];
    wire [1:0]   a2   = inst[3:2];
    wire [1:0]   a1   = inst[1:0];
    wire [319:0] va2  = regs[a2];
    wire [319:0] va1  = regs[a1];
    wire [8:0]   vec  = {1'b0, output_addr_base} + {1'b0, out};
    wire         exec = state == S_EXEC;

    wire [319:0] alu;
    wire [127:0] encoded;
    wire [319:0] loaded;
    genvar l;
    generate
        for (l = 0; l < 16; l = l + 1) begin : g_lane
            flexasr_act_lane u_lane (.op(op), .a2(va2[20*l +: 20]), .a1(va1[20*l +: 20]), .result(alu[20*l +: 20]));
            flexasr_adpf_encode u_enc (
                .x({{12{va2[20*l+19]}}, va2[20*l +: 20]}), .k({1'b0, bias}), .code(encoded[8*l +: 8])
            );
            flexasr_adpf_decode u_dec (.code(act_rdata[8*l +: 8]), .bias(bias), .value(loaded[20*l +: 20]));
        end
    endgenerate

    assign act_raddr  = buffer_addr_base + out[4:0];
    assign act_we     = exec && op == STORE;
    assign act_waddr  = act_raddr;
    assign act_wdata  = encoded;
    assign core_raddr = next_in;
    assign out_we     = exec && op == OUTGB && !vec[8];
    assign out_addr   = vec[7:0];
    assign out_data   = encoded;
    assign active     = state != S_IDLE;

    wire last_inst = k + 6'd1 >= num_inst;
    wire last_out  = out + 8'd1 >= num_output;

    task automatic advance;
        begin
            state <= S_EXEC;
            if (last_inst) begin
                k <= 6'd0;
                out <= out + 8'd1;
                if (last_out) begin
                    state <= S_IDLE;
                    done  <= 1'b1;
                end
            end else begin
                k <= k + 6'd1;
            end
        end
    endtask

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    regs[0] <= 320'd0;
                    regs[1] <= 320'd0;
                    regs[2] <= 320'd0;
                    regs[3] <= 320'd0;
                    k       <= 6'd0;
                    out     <= 8'd0;
                    next_in <= 9'd0;
                    if (num_inst == 6'd0 || num_output == 8'd0) done <= 1'b1;
                    else state <= S_EXEC;
                end
                S_EXEC: begin
                    if (op == LOAD) begin
                        state <= S_LOADW;
                    end else if (op == INPE) begin
                        state <= S_INPEW;
                    end else begin
                        if (op >= 4'h7 && op <= 4'hD) regs[a2] <= alu;
                        advance();
                    end
                end
                S_LOADW: begin
                    regs[a2] <= is_zero_first ? 320'd0 : loaded;
                    advance();
                end
                S_INPEW: begin
                    regs[a2] <= core_rdata;
                    next_in  <= next_in + 9'd1;
                    advance();
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
