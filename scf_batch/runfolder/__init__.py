"""The run folder (`--out`): the one owner of every file a run writes and reads back."""
