// Fills the demo page's embed snippet with this server's address.
const snippet = `<script src="${window.location.origin}/widget.js" data-color="#0f766e"\n        data-greeting="Hi! How can we help?"></script>`;
document.getElementById('snippet').textContent = snippet;
