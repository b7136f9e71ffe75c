// Uploads with visible progress, and photos from the camera, for the attendance and student pages.
// Without JavaScript the forms still work as plain multipart posts.
(function () {
  "use strict";

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function addRow(list, name) {
    var row = document.createElement("li");
    row.innerHTML = '<span class="name"></span> <progress max="100" value="0"></progress> <span class="state">waiting</span>';
    row.querySelector(".name").textContent = name;
    list.appendChild(row);
    return row;
  }

  // With a queue the server answers at once (202) with the photo's status URL: poll it until a worker
  // has processed the photo, showing each state ("waiting for recognition" while the service is down).
  var LABELS = {queued: "queued", processing: "recognising faces…", waiting_for_recognition: "waiting for recognition",
                done: "done", failed: "failed"};

  function follow(url, row) {
    var state = row.querySelector(".state");
    return new Promise(function (resolve) {
      function poll() {
        var request = new XMLHttpRequest();
        request.open("GET", url);
        request.setRequestHeader("Accept", "application/json");
        request.onload = function () {
          var body = {};
          try { body = JSON.parse(request.responseText); } catch (e) { body = {}; }
          if (request.status !== 200 || !body.state) { setTimeout(poll, 5000); return; }
          row.className = body.state;
          if (body.state === "done") {
            state.textContent = "done: " + body.face_count + " faces found";
            resolve(true);
          } else if (body.state === "failed") {
            state.textContent = "failed: " + (body.error || "the photo could not be processed");
            resolve(false);
          } else {
            state.textContent = LABELS[body.state] + (body.state === "waiting_for_recognition"
              ? ": face recognition is unavailable; it resumes by itself, nothing to do" : "");
            setTimeout(poll, body.state === "waiting_for_recognition" ? 5000 : 1500);
          }
        };
        request.onerror = function () { setTimeout(poll, 5000); };
        request.send();
      }
      poll();
    });
  }

  function upload(form, file, name, row) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("image", file, name);
      var request = new XMLHttpRequest();
      var bar = row.querySelector("progress"), state = row.querySelector(".state");
      request.open("POST", form.action);
      request.setRequestHeader("X-CSRFToken", csrfToken(form));
      request.setRequestHeader("Accept", "application/json");
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
        state.textContent = "uploading";
      };
      request.upload.onload = function () { bar.value = 100; state.textContent = "recognising faces…"; };
      request.onload = function () {
        var body = {};
        try { body = JSON.parse(request.responseText); } catch (e) { body = {message: "The server answered " + request.status + "."}; }
        if (body.ok && request.status === 202 && body.status_url) {
          state.textContent = LABELS[body.state] || body.message;
          follow(body.status_url, row).then(resolve);
          return;
        }
        row.className = body.ok ? "done" : "failed";
        state.textContent = body.message || (body.ok ? "done" : "failed");
        resolve(Boolean(body.ok));
      };
      request.onerror = function () {
        row.className = "failed";
        state.textContent = "The upload failed: check the connection and try again.";
        resolve(false);
      };
      request.send(data);
    });
  }

  function runAll(form, items) {
    var list = form.querySelector("[data-progress]");
    var rows = items.map(function (item) { return addRow(list, item.name); });
    var chain = Promise.resolve([]);
    items.forEach(function (item, index) {  // one after the other: the server recognises one photo at a time
      chain = chain.then(function (results) {
        return upload(form, item.file, item.name, rows[index]).then(function (ok) { return results.concat([ok]); });
      });
    });
    return chain.then(function (results) {
      if (results.some(Boolean)) { setTimeout(function () { window.location.reload(); }, 1200); }
    });
  }

  // Photos still in progress when the page was opened: follow them too, then show the results.
  var pending = document.querySelectorAll("[data-photo-status]");
  if (pending.length) {
    Promise.all(Array.prototype.map.call(pending, function (row) {
      if (row.className === "failed") { return Promise.resolve(false); }
      return follow(row.getAttribute("data-photo-status"), row);
    })).then(function (results) {
      if (results.some(Boolean)) { setTimeout(function () { window.location.reload(); }, 1200); }
    });
  }

  document.querySelectorAll("[data-upload-form]").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !input.files.length) { return; }  // let the browser post it
      event.preventDefault();
      runAll(form, Array.prototype.map.call(input.files, function (file) { return {file: file, name: file.name}; }));
      input.value = "";
    });

    var start = form.querySelector("[data-camera-start]");
    var panel = form.querySelector("[data-camera]");
    var video = form.querySelector("[data-camera-video]");
    var message = form.querySelector("[data-camera-message]");
    if (!start || !panel) { return; }
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      message.textContent = "This browser cannot use the camera here: choose a photo file instead.";
      return;
    }
    start.hidden = false;
    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment", width: {ideal: 1920}}, audio: false})
        .then(function (stream) {
          video.srcObject = stream;
          video.play();
          panel.hidden = false;
          message.textContent = "";
        })
        .catch(function (error) {
          message.textContent = error && error.name === "NotAllowedError"
            ? "Camera permission was refused: allow it in the browser, or choose a photo file instead."
            : "No camera is available: choose a photo file instead.";
        });
    });
    form.querySelector("[data-camera-shoot]").addEventListener("click", function () {
      var canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      canvas.toBlob(function (blob) {
        runAll(form, [{file: blob, name: "camera-" + Date.now() + ".jpg"}]);
      }, "image/jpeg", 0.92);
    });
  });
})();
