"""HTTP routers: schema in, one service call, response model out."""
