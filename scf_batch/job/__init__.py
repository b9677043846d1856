"""The job: the operations file and the job spec read into typed rows and definitions (pure)."""
