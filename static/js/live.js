// Live register: the webcam sends a small JPEG every second to the live-frames API, one request in
// flight at a time (a slow server slows the camera down, never queues pictures), and the page shows the
// last picture with its boxes, the count and the names as they arrive. Also: the self check-in QR code,
// fetched again every few seconds (each fetch is a new signed token).
(function () {
  "use strict";

  var INTERVAL_MS = 1000;
  var MAX_SIDE = 1280;

  function initLive(root) {
    var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
    var startButton = root.querySelector("[data-live-start]");
    var stopButton = root.querySelector("[data-live-stop]");
    var statusLine = root.querySelector("[data-live-status]");
    var countLine = root.querySelector("[data-live-count]");
    var video = root.querySelector("[data-live-video]");
    var frameBox = root.querySelector("[data-live-frame]");
    var image = root.querySelector("[data-live-image]");
    var names = root.querySelector("[data-live-names]");
    var canvas = document.createElement("canvas");
    var stream = null, running = false, inFlight = false, timer = null, lastUrl = null, marked = 0;

    function say(text) { statusLine.textContent = text; }

    function api(method, url, body) {
      return fetch(url, {method: method, body: body, credentials: "same-origin",
                         headers: {"X-CSRFToken": csrf, "Accept": "application/json"}});
    }

    function stopCamera() {
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      stream = null;
      video.srcObject = null;
    }

    function finish(text, tellServer) {
      running = false;
      clearTimeout(timer);
      stopCamera();
      startButton.hidden = false;
      stopButton.hidden = true;
      if (marked) { root.querySelector("[data-live-reload]").hidden = false; }
      if (!tellServer) { say(text); return; }
      say("Stopping…");
      api("DELETE", root.dataset.liveUrl).then(function () { say(text); }, function () { say(text); });
    }

    function schedule(delay) {
      clearTimeout(timer);
      if (running) { timer = setTimeout(tick, Math.max(0, delay)); }
    }

    function drawBoxes(body) {
      frameBox.querySelectorAll(".box").forEach(function (box) { box.remove(); });
      frameBox.style.aspectRatio = body.width + " / " + body.height;
      frameBox.classList.toggle("crowded", body.faces.length > 12);
      body.faces.forEach(function (face) {
        var kind = face.match === "too_small" ? "too-small"
          : !face.student ? "unknown" : face.match === "confident" ? "present" : "pending";
        var box = document.createElement("div");
        box.className = "box " + kind;
        box.dataset.liveBox = kind;
        box.style.left = (100 * face.box.left / body.width) + "%";
        box.style.top = (100 * face.box.top / body.height) + "%";
        box.style.width = (100 * (face.box.right - face.box.left) / body.width) + "%";
        box.style.height = (100 * (face.box.bottom - face.box.top) / body.height) + "%";
        var label = document.createElement("span");
        label.className = "box-label";
        label.textContent = kind === "too-small" ? "Too small to identify" : (face.name || "Unknown");
        box.title = label.textContent;
        box.appendChild(label);
        frameBox.appendChild(box);
      });
    }

    function show(body, blob) {
      if (lastUrl) { URL.revokeObjectURL(lastUrl); }
      lastUrl = URL.createObjectURL(blob);
      image.src = lastUrl;
      frameBox.hidden = false;
      drawBoxes(body);
      countLine.hidden = false;
      root.querySelector("[data-live-present]").textContent = body.present_count;
      root.querySelector("[data-live-remaining]").textContent = body.remaining;
      root.querySelector("[data-live-left]").textContent = body.stopped ? "stopped" : body.seconds_left + " s left";
      body.newly_marked.forEach(function (item) {
        var row = document.createElement("li");
        row.textContent = item.name + " — " + item.status;
        row.className = item.status;
        row.dataset.liveMarked = item.status;
        names.appendChild(row);
        marked += 1;
      });
    }

    function send(blob) {
      var data = new FormData();
      data.append("image", blob, "frame.jpg");
      var sentAt = Date.now();
      inFlight = true;
      api("POST", root.dataset.framesUrl, data).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          inFlight = false;
          if (!running) { return; }
          if (response.ok) {
            show(body, blob);
            if (body.stopped === "everyone_present") { finish("Everyone is present: live register stopped.", false); return; }
            if (body.stopped === "time_limit") { finish("Time limit reached: live register stopped.", false); return; }
            say("Looking… " + body.faces.length + " faces in view (" + body.processing_time_ms + " ms).");
            schedule(INTERVAL_MS - (Date.now() - sentAt));
          } else if (response.status === 429 || response.status === 503) {
            var wait = parseInt(response.headers.get("Retry-After") || "1", 10);
            say("The server is busy; next picture in " + wait + " s.");
            schedule(wait * 1000);
          } else if (response.status === 409) {
            finish(body.error_code === "LIVE_NOT_RUNNING" && body.details && body.details.ended_reason === "time_limit"
              ? "Time limit reached: live register stopped." : (body.message || "Live register stopped."), false);
          } else {
            say(body.message || ("The server answered " + response.status + "; trying again."));
            schedule(INTERVAL_MS * 2);
          }
        });
      }).catch(function () {
        inFlight = false;
        say("No connection to the server; trying again.");
        schedule(INTERVAL_MS * 2);
      });
    }

    function tick() {
      if (!running || inFlight) { return; }  // backpressure: never two pictures on the way
      if (!video.videoWidth) { schedule(200); return; }
      var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (blob && running) { send(blob); } else { schedule(INTERVAL_MS); }
      }, "image/jpeg", 0.8);
    }

    startButton.addEventListener("click", function () {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        say("This browser cannot use a camera here (it needs HTTPS); take a photo instead.");
        return;
      }
      startButton.disabled = true;
      say("Starting the camera…");
      navigator.mediaDevices.getUserMedia({video: {width: {ideal: 1280}, height: {ideal: 720}}, audio: false})
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          return video.play();
        })
        .then(function () { return api("POST", root.dataset.liveUrl); })
        .then(function (response) {
          startButton.disabled = false;
          if (!response.ok) {
            return response.json().catch(function () { return {}; }).then(function (body) {
              stopCamera();
              say(body.message || "Live register could not start.");
            });
          }
          running = true;
          startButton.hidden = true;
          stopButton.hidden = false;
          say("Live register running.");
          schedule(0);
        })
        .catch(function () {
          startButton.disabled = false;
          stopCamera();
          say("The camera is not available (refused or in use); take a photo instead.");
        });
    });

    stopButton.addEventListener("click", function () { finish("Live register stopped.", true); });
    window.addEventListener("pagehide", function () { if (running) { finish("", true); } });
  }

  function initCheckin(root) {
    var qr = root.querySelector("[data-checkin-qr]");
    if (!qr) { return; }
    var seconds = parseInt(root.dataset.rotateSeconds || "15", 10);
    setInterval(function () {
      // A new image URL each time: every fetch of the code is a new signed, expiring token.
      qr.src = root.dataset.qrUrl + "?t=" + Date.now();
    }, seconds * 1000);
  }

  document.querySelectorAll("[data-live]").forEach(initLive);
  document.querySelectorAll("[data-checkin]").forEach(initCheckin);
})();
