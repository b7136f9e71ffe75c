// Self check-in page: when the school checks positions, the browser's position goes with the selfie.
(function () {
  "use strict";
  var form = document.querySelector("[data-checkin-form]");
  if (!form || !form.hasAttribute("data-needs-location") || !navigator.geolocation) { return; }
  var note = form.querySelector("[data-checkin-location]");
  navigator.geolocation.getCurrentPosition(function (position) {
    form.elements.latitude.value = position.coords.latitude;
    form.elements.longitude.value = position.coords.longitude;
    if (note) { note.textContent = "Position found; it is checked against the school's and not kept."; }
  }, function () {
    if (note) { note.textContent = "Your position is not shared: your check-in will wait for your teacher."; }
  }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
})();
