"""The Embedrock CDK app: one stack, built from the route table and the model catalog."""
