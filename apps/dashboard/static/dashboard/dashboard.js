/* Dashboard behaviour: the per-day chart (vendored Chart.js) and live updates over /ws/dashboard/. */
(function () {
  "use strict";

  function drawChart() {
    var canvas = document.getElementById("daily-chart");
    var source = document.getElementById("series-data");
    if (!canvas || !source || !window.Chart) return;
    var series = JSON.parse(source.textContent);
    if (canvas._chart) canvas._chart.destroy();
    var brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#2563eb";
    canvas._chart = new window.Chart(canvas, {
      type: "line",
      data: {
        labels: series.map(function (row) { return row.date; }),
        datasets: [
          { label: "Conversations", data: series.map(function (r) { return r.conversations; }), borderColor: brand, backgroundColor: brand, tension: 0.25 },
          { label: "Leads", data: series.map(function (r) { return r.leads; }), borderColor: "#15803d", backgroundColor: "#15803d", tension: 0.25 },
          { label: "AI replies", data: series.map(function (r) { return r.ai_replies; }), borderColor: "#f59e0b", backgroundColor: "#f59e0b", tension: 0.25 }
        ]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  function connect(path, onMessage, state) {
    var retry = 1000;
    function open() {
      var socket = new WebSocket(socketUrl(path));
      socket.onmessage = function (event) {
        var frame = JSON.parse(event.data);
        if (frame.type === "ready") { if (state) { state.dataset.state = "live"; state.textContent = "live"; } retry = 1000; return; }
        onMessage(frame);
      };
      socket.onclose = function (event) {
        if (state) { state.dataset.state = "offline"; state.textContent = "reconnecting…"; }
        if (event.code === 4401 || event.code === 4403) { if (state) state.textContent = "offline"; return; }
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 30000);
      };
    }
    open();
  }

  function liveList() {
    var table = document.getElementById("conversations");
    if (!table) return;
    var rows = document.getElementById("conversation-rows");
    var pending = null;
    connect(table.dataset.ws, function (frame) {
      if (!frame.conversation) return;
      // Re-render the rows from the server (one request per burst): the same markup, roles and links.
      clearTimeout(pending);
      pending = setTimeout(function () {
        var status = document.getElementById("status");
        var url = table.dataset.refresh + (status && status.value ? "?status=" + encodeURIComponent(status.value) : "");
        window.htmx.ajax("GET", url, { target: rows, swap: "innerHTML" }).then(function () {
          var row = rows.querySelector('[data-conversation="' + frame.conversation.id + '"]');
          if (row) row.classList.add("flash-row");
        });
      }, 150);
    }, document.getElementById("live-state"));
  }

  function liveThread() {
    var thread = document.getElementById("thread");
    if (!thread) return;
    var id = Number(thread.dataset.conversation);
    var seen = {};
    connect(thread.dataset.ws, function (frame) {
      if (!frame.conversation || frame.conversation.id !== id || !frame.message) return;
      var message = frame.message;
      if (seen[message.id] || !message.text) return;
      seen[message.id] = true;
      var empty = thread.querySelector(".empty");
      if (empty) empty.remove();
      var item = document.createElement("li");
      item.className = "bubble " + message.role;
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = { visitor: "Visitor", assistant: "Assistant", agent: "Agent" }[message.role] || message.role;
      item.appendChild(who);
      item.appendChild(document.createTextNode(message.text));
      thread.appendChild(item);
      thread.scrollTop = thread.scrollHeight;
      var status = document.getElementById("conversation-status");
      if (status && frame.conversation.status === "human") { status.textContent = "A person answers"; status.className = "pill human"; }
    }, null);
    thread.scrollTop = thread.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", function () { drawChart(); liveList(); liveThread(); });
  document.body.addEventListener("htmx:afterSwap", function (event) { if (event.target.id === "metrics") drawChart(); });
})();
