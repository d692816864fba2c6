"""Instance tracking: ids that survive from frame to frame (ByteTrack-style association
with a constant-velocity Kalman filter and box + mask IoU)."""
