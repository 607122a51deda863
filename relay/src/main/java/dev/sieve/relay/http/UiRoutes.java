package dev.sieve.relay.http;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;

/**
 * The web UI's history-API routes (/flows, /map, /drops, /policies, /nodes, any query string):
 * each answers the app's index.html, which Quarkus serves from META-INF/resources at "/" (the
 * Maven build copies ui/dist there). A relay built without the UI answers 404 with a hint.
 */
@Path("/{view: flows|map|drops|policies|nodes}")
public class UiRoutes {
    static final String INDEX = "META-INF/resources/index.html";

    @GET
    public Response view() throws IOException {
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(INDEX)) {
            if (in == null) {
                return Response.status(404).type(MediaType.TEXT_PLAIN)
                        .entity("this relay was built without the web UI (ui/dist was missing): run 'make build'\n").build();
            }
            return Response.ok(in.readAllBytes(), MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).header("Cache-Control", "no-cache").build();
        }
    }
}
