"""The task process: runs one spout or bolt, routes and batches what it emits."""
