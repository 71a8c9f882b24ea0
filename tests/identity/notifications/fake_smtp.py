"""A local SMTP server that refuses every recipient (550), as a mail server does for an address
that does not exist. One connection, then it stops."""

import socket
import threading


def start_refusing_smtp() -> tuple[int, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        connection, _ = listener.accept()
        with connection, connection.makefile("rwb") as stream:

            def reply(line: bytes) -> None:
                stream.write(line + b"\r\n")
                stream.flush()

            reply(b"220 fake ESMTP")
            for line in stream:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    reply(b"250 fake")
                elif verb in (b"MAIL", b"RSET"):
                    reply(b"250 OK")
                elif verb == b"RCPT":
                    reply(b"550 No such user")
                elif verb == b"QUIT":
                    reply(b"221 Bye")
                    return
                else:
                    reply(b"502 Not implemented")

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], listener
