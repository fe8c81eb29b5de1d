"""The local runtime: the Bedrock emulator, the local API Gateway and `embedrock serve`, which starts both."""
