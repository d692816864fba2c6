"""A real RTSP server for tests: GStreamer's RTSP server (Debian packages), on 127.0.0.1.

Runs under Debian's /usr/bin/python3 (where python3-gi lives), started by the tests as
a subprocess. Prints the port it listens on, then serves until killed. It dies with
its parent (PR_SET_PDEATHSIG), so no server is left behind.

    /usr/bin/python3 rtsp_server.py [--port N] [--width W --height H --fps F] [--sdp-parameter-sets]

``--sdp-parameter-sets``: H.264's SPS/PPS travel only in the SDP (as many cameras send
them), never in band; by default they are repeated before every keyframe.
"""

import argparse
import ctypes
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PR_SET_PDEATHSIG = 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", default="0")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument(
        "--record", help="accept a pushed H.264 stream (RTSP RECORD) into this file instead of serving"
    )
    parser.add_argument("--sdp-parameter-sets", action="store_true")
    args = parser.parse_args()
    ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(args.port)
    factory = GstRtspServer.RTSPMediaFactory()
    if args.record:
        factory.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
        factory.set_launch(
            f"( rtph264depay name=depay0 ! h264parse ! video/x-h264,stream-format=byte-stream ! filesink "
            f"location={args.record} buffer-mode=unbuffered sync=false )"
        )
        factory.set_shared(True)
        server.get_mount_points().add_factory("/push", factory)
        server.attach(None)
        print(server.get_bound_port(), flush=True)
        GLib.MainLoop().run()
        return
    # avc stream format: the parameter sets go to the caps (codec_data → SDP), not in band
    stream_format, interval = ("avc", 0) if args.sdp_parameter_sets else ("byte-stream", -1)
    repeat = "option-string=repeat-headers=0" if args.sdp_parameter_sets else ""
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! videoscale ! "
        f"video/x-raw,format=I420,width={args.width},height={args.height},framerate={args.fps}/1 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bframes=0 threads=1 "
        f"{repeat} ! "
        f"video/x-h264,profile=baseline,stream-format={stream_format} ! "
        f"rtph264pay name=pay0 pt=96 config-interval={interval} )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/test", factory)
    server.attach(None)
    print(server.get_bound_port(), flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
