/* Stores the browser's IANA time zone in a first-party cookie so that local-time rules use it
   when geo gives no time zone. Optional; a few hundred bytes; sets nothing else. */
(function () {
  try {
    var script = document.currentScript;
    var name = (script && script.getAttribute("data-cookie")) || "pz_tz";
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // Written as it is (the server reads the value without decoding it): IANA names only hold
    // characters a cookie value may.
    if (!zone || !/^[A-Za-z0-9_+\-\/]+$/.test(zone)) return;
    if (document.cookie.indexOf(name + "=" + zone) !== -1) return;
    document.cookie = name + "=" + zone + ";path=/;max-age=31536000;samesite=lax" +
      (location.protocol === "https:" ? ";secure" : "");
  } catch (e) { /* no Intl support: the site's time zone applies */ }
})();
