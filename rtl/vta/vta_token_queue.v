// vta_token_queue: one dependency-token queue between two units (l2c, c2l, c2s or s2c), kept as a
// count since tokens carry no data. Computes: count += push - (pop && count != 0).
// Latency: a token pushed at an edge can be popped at the next edge.
module vta_token_queue (
    input  wire clk,
    input  wire rst,
    input  wire push,
    input  wire pop,
    output wire nonempty
);
    reg [31:0] count;

    assign nonempty = count != 32'd0;

    always @(posedge clk) begin
        if (rst) count <= 32'd0;
        else count <= count + {31'd0, push} - {31'd0, pop && nonempty};
    end
endmodule
