// The Java consumer's view of a topic, as a downstream service on the stock client sees it: every
// record of every partition from the beginning to the end (for read_committed: to the last stable
// offset), printed as "<partition>\t<offset>\t<value>" lines. Used by tests as the reference reader
// (tests/support/java-reader.ts): what kafkajs reads must agree with it.
//
//   java -cp "<kafka jars>/*" ReadTopic.java <bootstrap> <read_committed|read_uncommitted> <topic>
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class ReadTopic {
  public static void main(String[] args) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, args[1]);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(args[2]).forEach(i -> parts.add(new TopicPartition(i.topic(), i.partition())));
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      StringBuilder out = new StringBuilder();
      long deadline = System.currentTimeMillis() + 60_000;
      while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("not at the end after 60 s");
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          out.append(r.partition()).append('\t').append(r.offset()).append('\t').append(r.value()).append('\n');
        }
      }
      System.out.print(out);
    }
  }
}
