"""VoiceSim: sweep voice-pipeline settings over simulated caller scenarios, score and store them."""
