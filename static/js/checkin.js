// Self check-in page. The liveness step: the camera takes a few pictures while the student looks at it
// and turns their head, and they go with the form as `frames` (the server measures the turn). Without a
// camera the single-photo field stays (a check-in that then waits for the teacher). When the school
// checks positions, the browser's position goes too.
(function () {
  "use strict";
  var form = document.querySelector("[data-checkin-form]");
  if (!form) { return; }

  var panel = form.querySelector("[data-liveness]");
  var fallback = form.querySelector("[data-selfie-fallback]");
  var framesInput = form.querySelector("[data-liveness-frames]");
  var video = form.querySelector("[data-liveness-video]");
  var step = form.querySelector("[data-liveness-step]");
  var start = form.querySelector("[data-liveness-start]");
  var submit = form.querySelector("[data-checkin-submit]");
  // The prompts and when each picture is taken (ms after the previous one).
  var SCRIPT = [
    {say: "Look at the camera", wait: 1200},
    {say: "Turn your head slowly to your left", wait: 1400},
    {say: "…a bit more", wait: 700},
    {say: "Now slowly to your right", wait: 1800},
    {say: "…a bit more", wait: 700}
  ];
  var canTransfer = typeof DataTransfer === "function";
  var hasCamera = navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function";

  function snapshot() {
    var canvas = document.createElement("canvas");
    var scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.9); });
  }

  function pause(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function run(stream) {
    var frames = [];
    video.srcObject = stream;
    return video.play().then(function () {
      return SCRIPT.reduce(function (chain, item, index) {
        return chain.then(function () {
          step.textContent = item.say;
          return pause(item.wait);
        }).then(snapshot).then(function (blob) {
          if (blob) { frames.push(new File([blob], "frame-" + index + ".jpg", {type: "image/jpeg"})); }
        });
      }, Promise.resolve());
    }).then(function () {
      stream.getTracks().forEach(function (track) { track.stop(); });
      var transfer = new DataTransfer();
      frames.forEach(function (file) { transfer.items.add(file); });
      framesInput.files = transfer.files;
      step.textContent = "Checking…";
      form.submit();
    });
  }

  if (panel && hasCamera && canTransfer) {
    panel.hidden = false;
    submit.hidden = true;
    fallback.hidden = true;
    start.addEventListener("click", function () {
      start.disabled = true;
      start.hidden = true;
      step.textContent = "Starting the camera…";
      navigator.mediaDevices.getUserMedia({video: {facingMode: "user", width: {ideal: 640}}, audio: false})
        .then(run)
        .catch(function () {
          step.textContent = "The camera is not available: take a selfie instead (your check-in will wait for your teacher).";
          fallback.hidden = false;
          submit.hidden = false;
          start.hidden = true;
        });
    });
  }

  if (!form.hasAttribute("data-needs-location") || !navigator.geolocation) { return; }
  var note = form.querySelector("[data-checkin-location]");
  navigator.geolocation.getCurrentPosition(function (position) {
    form.elements.latitude.value = position.coords.latitude;
    form.elements.longitude.value = position.coords.longitude;
    if (note) { note.textContent = "Position found; it is checked against the school's and not kept."; }
  }, function () {
    if (note) { note.textContent = "Your position is not shared: your check-in will wait for your teacher."; }
  }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
})();
