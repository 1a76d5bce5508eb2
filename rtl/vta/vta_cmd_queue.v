// vta_cmd_queue: the FIFO of commands waiting for one unit, 2**LOG_DEPTH entries of WIDTH bits
// (an instruction and its index). Latency: an entry pushed at an edge is at the head after it.
module vta_cmd_queue #(
    parameter int WIDTH = 160,
    parameter int LOG_DEPTH = 4
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             push,
    input  wire [WIDTH-1:0] push_data,
    output wire             full,
    input  wire             pop,
    output wire [WIDTH-1:0] head,
    output wire             empty
);
    reg [WIDTH-1:0]   slots [0:(1 << LOG_DEPTH)-1];
    reg [LOG_DEPTH:0] wr_ptr;
    reg [LOG_DEPTH:0] rd_ptr;

    assign empty = wr_ptr == rd_ptr;
    assign full  = (wr_ptr[LOG_DEPTH] != rd_ptr[LOG_DEPTH])
                && (wr_ptr[LOG_DEPTH-1:0] == rd_ptr[LOG_DEPTH-1:0]);
    assign head  = slots[rd_ptr[LOG_DEPTH-1:0]];

    always @(posedge clk) begin
        if (push && !full) slots[wr_ptr[LOG_DEPTH-1:0]] <= push_data;
        if (rst) begin
            wr_ptr <= '0;
            rd_ptr <= '0;
        end else begin
            if (push && !full) wr_ptr <= wr_ptr + 1'b1;
            if (pop && !empty) rd_ptr <= rd_ptr + 1'b1;
        end
    end
endmodule
