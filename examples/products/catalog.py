"""A local product catalog and export receiver for the pipeline example (and its test).

`python -m examples.products.catalog --port 8765 --count 10000` serves
GET /products → {"products": [{id, name, seed, price}, …], "reference": {id, seed}} and counts what
POST /export receives; the pipeline's input names both URLs."""

import argparse
import http.server
import json
import threading


def catalog(count):
    products = [{"id": f"p{i:05d}", "name": f"Product {i}", "seed": i * 7919 % 1000, "price": round(5 + i % 97 * 1.5, 2)}
                for i in range(count)]
    return {"products": products, "reference": {"id": "reference", "seed": 42}}


class CatalogServer:
    """The catalog and the export receiver on a thread: `exports` holds each POSTed body."""

    def __init__(self, count, port=0):
        body = json.dumps(catalog(count)).encode()
        self.exports = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self._answer(200, body)

            def do_POST(self):
                received = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                server.exports.append(received)
                self._answer(200, json.dumps({"received": len((received or {}).get("results") or [])}).encode())

            def _answer(self, status, payload):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def input(self):
        """The pipeline's input for this server."""
        return {"catalog_url": f"{self.base}/products", "export_url": f"{self.base}/export"}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--count", type=int, default=10_000)
    arguments = parser.parse_args()
    running = CatalogServer(arguments.count, arguments.port)
    print(f"serving {arguments.count} products; run the pipeline with --input '{json.dumps(running.input())}'")
    running.thread.join()
