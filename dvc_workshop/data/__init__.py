"""Where the data comes from and how the stages store it: sources, IDX, PNG shards, arrays, pictures."""
