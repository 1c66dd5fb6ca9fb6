{% autoescape off %}/*! Chat widget loader for {{ slug }}: paste <script src="{{ loader_url }}" async></script> on any page. */
(function (w, d) {
  var config = {{ config_json }};
  if (w.RealEstateChat && w.RealEstateChat.mount) { w.RealEstateChat.mount(config); return; }
  (w.RealEstateChatQueue = w.RealEstateChatQueue || []).push(config);
  if (d.getElementById("rea-chat-widget-script")) return;
  var s = d.createElement("script");
  s.id = "rea-chat-widget-script";
  s.async = true;
  s.src = config.widgetUrl;
  (d.head || d.documentElement).appendChild(s);
})(window, document);
{% endautoescape %}
