"""Record format, signing and schemas shared by the edge, the hub and the tools."""
