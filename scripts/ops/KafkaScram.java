// Sets a user's SCRAM-SHA-256 and SCRAM-SHA-512 credentials on the local broker of scripts/stack.sh
// (whose SASL_PLAINTEXT listener is in scripts/kafka/server.properties.template), and removes
// per-broker listener overrides an earlier version of this tool made. Run by
// scripts/ops/kafka-scram.sh with the broker's own jars:
//   java -cp '<jars>/*' KafkaScram.java <bootstrap> <user> <password>
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.config.ConfigResource;

public class KafkaScram {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], user = args[1], password = args[2];
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(props)) {
      String nodeId = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next().idString();
      ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, nodeId);
      List<AlterConfigOp> cleanup = new ArrayList<>();
      for (ConfigEntry e : admin.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker).entries()) {
        boolean dynamic = e.source() == ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG;
        if (dynamic && (e.name().equals("listeners") || e.name().equals("listener.security.protocol.map") || e.name().startsWith("listener.name.sasl_plaintext."))) {
          cleanup.add(new AlterConfigOp(new ConfigEntry(e.name(), ""), AlterConfigOp.OpType.DELETE));
        }
      }
      if (!cleanup.isEmpty()) admin.incrementalAlterConfigs(Map.of(broker, cleanup)).all().get(30, TimeUnit.SECONDS);
      // one mechanism per request (a user may not be altered twice in one request)
      for (ScramMechanism m : List.of(ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)) {
        admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user, new ScramCredentialInfo(m, 8192), password)))
          .all().get(30, TimeUnit.SECONDS);
      }
      System.err.println("[kafka-scram] SCRAM-SHA-256/512 credentials of " + user + " set");
    }
  }
}
