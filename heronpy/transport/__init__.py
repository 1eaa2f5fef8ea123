"""Moving frames between processes: the frame header and the ZeroMQ sockets."""
