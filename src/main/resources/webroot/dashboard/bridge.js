// A minimal client of the Vert.x SockJS event-bus bridge protocol (register, ping, rec, err),
// on top of the sockjs-client WebJar. The page only listens, so that is all it speaks.
// (No WebJar of the Vert.x bridge client resolves here; the protocol is four frame types.)
"use strict";

class LiveBridge {
  constructor(url, token) {
    this.url = url;
    this.token = token;
    this.handlers = new Map();
    this.onopen = () => {};
    this.onclose = () => {};
    this.onerror = () => {};
  }

  open() {
    this.socket = new SockJS(this.url, null, { transports: ["websocket", "xhr-streaming", "xhr-polling"] });
    this.socket.onopen = () => {
      this.pinger = setInterval(() => this.#send({ type: "ping" }), 5000);
      for (const address of this.handlers.keys()) {
        this.#register(address);
      }
      this.onopen();
    };
    this.socket.onmessage = (e) => this.#receive(JSON.parse(e.data));
    this.socket.onclose = (e) => {
      clearInterval(this.pinger);
      this.onclose(e);
    };
  }

  listen(address, handler) {
    this.handlers.set(address, handler);
    if (this.socket && this.socket.readyState === SockJS.OPEN) {
      this.#register(address);
    }
  }

  close() {
    if (this.socket) {
      this.socket.onclose = () => clearInterval(this.pinger);
      this.socket.close();
    }
  }

  #register(address) {
    this.#send({ type: "register", address, headers: { token: this.token } });
  }

  #send(frame) {
    if (this.socket && this.socket.readyState === SockJS.OPEN) {
      this.socket.send(JSON.stringify(frame));
    }
  }

  #receive(frame) {
    if (frame.type === "rec" && this.handlers.has(frame.address)) {
      this.handlers.get(frame.address)(frame.body);
    } else if (frame.type === "err") {
      this.onerror(frame);
    }
  }
}

window.LiveBridge = LiveBridge;
