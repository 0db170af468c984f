// Swagger UI on this node's own description; a script file, not inline, so the page's CSP stays script-src 'self'.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true
});
