/* Stores the browser's IANA time zone in a first-party cookie so that local-time rules use it
   when geo gives no time zone. Optional; about 300 bytes; sets nothing else. */
(function () {
  try {
    var script = document.currentScript;
    var name = (script && script.getAttribute("data-cookie")) || "pz_tz";
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || document.cookie.indexOf(name + "=" + encodeURIComponent(zone)) !== -1) return;
    document.cookie = name + "=" + encodeURIComponent(zone) + ";path=/;max-age=31536000;samesite=lax" +
      (location.protocol === "https:" ? ";secure" : "");
  } catch (e) { /* no Intl support: the site's time zone applies */ }
})();
