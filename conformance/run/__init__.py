"""The run: its typed state, outcomes and verdict, waivers and the baseline it is compared with."""
