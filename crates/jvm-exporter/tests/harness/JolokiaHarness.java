// A plain JVM serving Jolokia's real protocol handler (jolokia-core 1.7.1, Debian's
// libjolokia-core-java) on a loopback port, for vigie-jvm-exporter's integration tests.
// Debian ships no Jolokia JVM agent; this drives the same classes its JolokiaHttpHandler does.
//
//   javac -cp /usr/share/java/jolokia-core.jar -d DIR JolokiaHarness.java
//   java -cp DIR:/usr/share/java/jolokia-core.jar JolokiaHarness PORT [PORTFILE]
//
// Binds 127.0.0.1:PORT (0: any free port); readiness = the port accepts connections, or, when
// PORTFILE is given, the file exists (it is written atomically with the bound port). Every reply is HTTP 200, as Jolokia's servlet does; errors are per entry. With
// JOLOKIA_HARNESS_AUTH=user:password in the environment, requests without that basic auth
// get HTTP 401, as a servlet container's auth constraint answers.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.jolokia.backend.BackendManager;
import org.jolokia.config.ConfigKey;
import org.jolokia.config.Configuration;
import org.jolokia.http.HttpRequestHandler;
import org.jolokia.restrictor.AllowAllRestrictor;
import org.jolokia.util.LogHandler;
import org.json.simple.JSONAware;

public class JolokiaHarness {
    public static void main(String[] args) throws Exception {
        Configuration cfg = new Configuration(ConfigKey.AGENT_ID, "vigie-test", ConfigKey.DISCOVERY_ENABLED, "false");
        LogHandler log = new LogHandler.StdoutLogHandler(false);
        HttpRequestHandler handler =
                new HttpRequestHandler(cfg, new BackendManager(cfg, log, new AllowAllRestrictor(), true), log);
        int port = Integer.parseInt(args[0]);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        String auth = System.getenv("JOLOKIA_HARNESS_AUTH");
        String expected = auth == null || auth.isEmpty()
                ? null
                : "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8));
        server.createContext("/jolokia", exchange -> {
            if (expected != null && !expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"jolokia\"");
                exchange.sendResponseHeaders(401, -1);
                exchange.close();
                return;
            }
            serve(handler, exchange);
        });
        server.start();
        if (args.length > 1) {
            Path file = Paths.get(args[1]);
            Path tmp = Paths.get(args[1] + ".tmp");
            Files.write(tmp, Integer.toString(server.getAddress().getPort()).getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    static void serve(HttpRequestHandler handler, HttpExchange exchange) throws java.io.IOException {
        JSONAware json;
        try {
            URI uri = exchange.getRequestURI();
            String path = uri.getPath().substring("/jolokia".length());
            Map<String, String[]> params = query(uri.getRawQuery());
            if ("POST".equals(exchange.getRequestMethod())) {
                json = handler.handlePostRequest(uri.toString(), exchange.getRequestBody(), "utf-8", params);
            } else {
                json = handler.handleGetRequest(uri.toString(), path, params);
            }
        } catch (Throwable t) {
            json = handler.handleThrowable(t);
        }
        byte[] body = json.toJSONString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    static Map<String, String[]> query(String raw) {
        Map<String, String[]> params = new HashMap<>();
        if (raw == null) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.put(k, new String[] {v});
        }
        return params;
    }
}
