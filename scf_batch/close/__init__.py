"""Close's API: the only HTTP client, its answers checked at the edge, pacing and retries."""
