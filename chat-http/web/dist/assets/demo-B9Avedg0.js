import"./modulepreload-polyfill-B5Qt9EMX.js";const t=`<script src="${window.location.origin}/widget.js" data-color="#0f766e"
        data-greeting="Hi! How can we help?"><\/script>`;document.getElementById("snippet").textContent=t;
