"""What runnel's test servers share: they listen on a port the kernel picks and publish it in a
file (written whole, then renamed, so a test polling for the file never reads half a number),
then serve until they are stopped."""
import os


def publish_port_and_serve(srv, port_file):
    """Writes srv's port to port_file atomically, then serves until SIGINT. Returns 0."""
    tmp = port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d" % srv.server_address[1])  # no newline: read as is by C tests
    os.rename(tmp, port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
